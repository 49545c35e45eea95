"""Serve the committed model with bankchurn and with its peers; load each with wrk.

Writes docs/benchmarks.md (the generated report), docs/benchmarks.json (the same
numbers for machines: deploy/k8s sizes pods from its ``capacity`` object) and the
throughput bar chart docs/img/benchmarks-throughput.png (benchmarks.charts).

Contestants, all serving models/ and answered with the same 100 customers:

  bankchurn-onnx     our API, BANKCHURN_BACKEND=onnx (the production image's default)
  bankchurn-sklearn  our API, BANKCHURN_BACKEND=sklearn
  bankchurn-onnx-nodrift     bankchurn-onnx on a model without a drift reference (#13's cost)
  bankchurn-onnx-explain     ?explain=true, then plain rows, on the ONNX backend (#14's cost)
  bankchurn-sklearn-explain  the same on scikit-learn
  mlserver           Seldon MLServer + its scikit-learn runtime, V2 inference protocol
  mlflow             ``mlflow models serve`` of the pipeline saved as an MLflow model
  bentoml            a BentoML service (benchmarks/peers/bentoml/service.py)
  litserve           a LitServe LitAPI (benchmarks/peers/litserve/server.py)
  rayserve           a Ray Serve deployment on a one-CPU local Ray (peers/rayserve/server.py)
  fastapi-trivial    the ceiling: a constant answer on our server stack (peers/trivial_app.py)
  fastapi-typed      the typed ceiling: our request/response models, a constant (typed_app.py)

Each contestant is one worker process pinned to core ``--server-cpu``, with wrk pinned
to ``--load-cpu``. First each contestant's cold start, alone (process start to the first
correct prediction, median of ``--cold-runs``). Then all of them start together, idle
but the one under load: a parity check (its probabilities for the 100 customers equal
the reference pipeline's within 1e-5; a contestant that answers anything else is not
measured), idle memory, then per payload (one customer; a batch of 100) a warm-up,
``--repeats`` rounds of fixed-duration closed-loop runs at ``--connections`` that go
through the contestants in turn (throughput: median of the rounds), one run each at a
fixed request rate (p50/p99), then loaded memory. The explain kind (README's customer,
``?explain=true``) goes first and only to the -explain variants, so their plain single
rows come after they explained. Finally the production image's cold
start in Docker (docker run to the first correct prediction).

Before any server starts, the ablation (benchmarks/serving/ablation.py): bankchurn's app
in this process with one layer off at a time, the cost of each layer in microseconds.

Ratios to bankchurn-onnx and to the ceiling are reported beside absolute numbers:
they survive a noisy or slower machine, absolute numbers do not.

    .venv/bin/python -m benchmarks.serving [--only bankchurn-onnx,mlflow] [--duration 10]
    .venv/bin/python -m benchmarks.serving --render-only   # report + chart from the .json

Peers run from their own venvs (.venv-bench/<peer>, from benchmarks/peers/*/requirements.txt;
``make bench`` creates them). Needs wrk and taskset (Debian packages wrk, util-linux).

One job per module: adapters (what each protocol is sent and answers), contestant (what
the harness knows of one), contestants (the line-up), variants (bankchurn beside itself),
more_peers (LitServe, Ray Serve), checks (what a contestant proves before it is timed),
process (server processes and memory), wrk (the load generator), measure (the loop),
image (the production image's cold start), ablation (the layers' costs), verdicts (goals
and capacity), report and report_features (the markdown) and __main__ (the command line).
"""
