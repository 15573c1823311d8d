"""The simulator: the real engine driven by a fake clock and scripted callers.

``call`` runs one caller through the compiled flow (text transcripts), ``queues``
several callers and scripted agents around the queue core, ``audio`` the same
with the prompt files a caller would hear, and ``scenario`` the scenario files
that ``attendant test`` compares with their expected transcripts. It is an
adapter, like ``attendant.sip``: nothing in the core imports it.
"""
