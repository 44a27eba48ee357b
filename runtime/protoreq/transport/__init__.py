"""The transport: the only code that talks to grpcio's channels and calls.

Everything above it (preparing a request, the interceptor chain, the retry
layer) works on protoreq's own values; here those become grpcio calls and
grpcio's answers become responses again:

* :mod:`~protoreq.transport.fast_paths` — the feature-detected shortcuts into
  grpcio's internals, each with its public fallback;
* :mod:`~protoreq.transport.streams` — starting streaming calls, sync and async;
* :mod:`~protoreq.transport.outgoing` — feeding a request's outgoing messages;
* :mod:`~protoreq.transport.aio_status` — keeping the server's status when
  grpc.aio would overwrite it.
"""
