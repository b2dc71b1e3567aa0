"""`nodeflow serve` vs `nodeflow run`: what the server adds to each job, in one run.

The same ComfyUI API prompt (the built-in model, txt2img, --size and --steps) runs N times with
seeds 1..N, twice over, each in a fresh process after one warm-up job (model loading is not
timed):
  run     `nodeflow run prompt.json --sweep 3.seed=...`: each job's own seconds (index.jsonl)
  serve   `nodeflow serve` with one websocket client posting the prompts one after another, as
          ComfyUI's websockets example does: from POST to `executing` null, and from POST to the
          first preview frame; the jobs' own seconds too (the server's index.jsonl)
It prints prompts/s, the medians, and the ratio of the server's end-to-end time per prompt to
`nodeflow run`'s job time (goal: under 1.05, server overhead < 5% of job time).
Run: `python bench/serve_throughput.py [--jobs N] [--steps S] [--size PX]`.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from _common import ROOT, child_environment

sys.path.insert(0, str(ROOT / "tests" / "interop"))
from comfy_graphs import txt2img_api  # noqa: E402

CLI = [sys.executable, "-c", "import sys; from nodeflow.cli import main; sys.exit(main())"]


def prompt_for(seed: int, steps: int, size: int) -> dict:
    prompt = txt2img_api(seed=seed, steps=steps)
    prompt["5"]["inputs"].update(width=size, height=size)
    return prompt


def job_seconds(index: Path, skip: int) -> list[float]:
    lines = [json.loads(line) for line in index.read_text().splitlines()]
    return [line["seconds"] for line in lines[skip:]]


def time_run(work: Path, jobs: int, steps: int, size: int, env: dict) -> list[float]:
    path = work / "prompt.json"
    path.write_text(json.dumps({"prompt": prompt_for(1, steps, size)}))
    out = work / "run_out"
    subprocess.run(CLI + ["run", str(path), "--sweep", f"3.seed=0..{jobs}", "--out", str(out), "--quiet",
                          "--device", "cpu"], check=True, env=env, cwd=work, capture_output=True)
    return job_seconds(out / "index.jsonl", skip=1)


def time_serve(work: Path, jobs: int, steps: int, size: int, env: dict) -> tuple[list[float], list[float], list[float]]:
    import urllib.request

    import websocket

    out = work / "serve_out"
    server = subprocess.Popen(CLI + ["serve", "--port", "0", "--out", str(out), "--input", str(work / "in"),
                                     "--state", str(work / "state"), "--device", "cpu"],
                              env=env, cwd=work, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        line = server.stdout.readline()
        url = line.split("listening on ")[1].split()[0]
        client = uuid.uuid4().hex
        ws = websocket.create_connection(url.replace("http", "ws", 1) + f"/ws?clientId={client}", timeout=600)
        totals, firsts = [], []
        for seed in range(0, jobs + 1):
            body = json.dumps({"prompt": prompt_for(seed, steps, size), "client_id": client}).encode()
            started = time.perf_counter()
            answer = json.loads(urllib.request.urlopen(urllib.request.Request(url + "/prompt", body)).read())
            first = None
            while True:
                message = ws.recv()
                if isinstance(message, bytes):
                    first = first or time.perf_counter() - started
                    continue
                data = json.loads(message)
                if data["type"] == "executing" and data["data"]["node"] is None \
                        and data["data"]["prompt_id"] == answer["prompt_id"]:
                    break
            if seed:  # seed 0 is the warm-up (loads the model)
                totals.append(time.perf_counter() - started)
                firsts.append(first or float("nan"))
        ws.close()
    finally:
        server.terminate()
        server.wait(120)
    return totals, firsts, job_seconds(out / "index.jsonl", skip=1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=8)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--size", type=int, default=64)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="nodeflow-serve-bench-") as folder:
        work = Path(folder)
        env = child_environment(NODEFLOW_HOME=str(work / "home"))
        run = time_run(work, args.jobs, args.steps, args.size, env)
        totals, firsts, served_jobs = time_serve(work, args.jobs, args.steps, args.size, env)
    med = statistics.median
    print(f"{args.jobs} prompts, {args.size}x{args.size}, {args.steps} steps, built-in model, CPU")
    print(f"nodeflow run   : job {med(run):.3f}s median")
    print(f"nodeflow serve : POST -> done {med(totals):.3f}s median ({1 / med(totals):.2f} prompts/s), "
          f"first preview after {med(firsts):.3f}s, job itself {med(served_jobs):.3f}s")
    print(f"ratio serve end-to-end / run job: {med(totals) / med(run):.3f}  "
          f"(server overhead per prompt {med(totals) - med(served_jobs):+.3f}s)")


if __name__ == "__main__":
    main()
