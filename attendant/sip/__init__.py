"""The SIP adapter: the same engine on real calls, through pjsua2 (built by us).

``endpoint`` runs pjsip on one worker thread; ``server`` is ``attendant serve``
(admission, overload, drain, reload, storage hand-off); ``call`` is one call driving
``engine.step()``, with REFER, Replaces and redirects refused; ``queues`` runs the
queue core on real agent legs; ``invite_checks``, ``identity``, ``admission`` and
``safety`` decide what an untrusted peer may do. This ``__init__`` imports nothing,
so modules without pjsua2 (``limits``, ``identity``, ``invite_checks``) load without it.
"""
