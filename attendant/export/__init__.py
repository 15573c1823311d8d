"""The compiled flow shown outside the program: diagrams (``graph``) and JSON (``serialize``).

Both read a compiled :class:`attendant.model.Flow` and print; neither changes it.
"""
