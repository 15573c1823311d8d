"""The SIP adapter: the same engine on real calls, through pjsua2 (built by us).

``endpoint`` runs pjsip on one worker thread; ``server`` is ``attendant serve``
(accepting calls, reload, drain), composed of ``account``, ``refusals``, ``records``,
``messages``, ``prompt_shelf`` and ``status``; ``call`` is one caller driving
``engine.step()``, with ``playback``, ``recording`` and ``bridge`` for the media it
drives; ``queues`` runs the queue core on real agent legs through the ports;
``invite_checks``, ``identity``, ``admission`` and ``safety`` decide what an untrusted
peer may do. This ``__init__`` imports nothing, so modules without pjsua2 (``queues``,
``failures``, ``limits``, ``identity``, ``invite_checks``) load without it.
"""
