"""What a running server tells the people who run it: voicemail e-mail and metrics.

``notify`` sends each new voicemail by e-mail through a durable outbox;
``metrics`` keeps the Prometheus metrics of ``attendant serve`` and serves them.
Both are adapters: the core never imports them.
"""
