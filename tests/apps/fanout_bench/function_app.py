"""A minimal fan-out app for bench/devhost_fanout.py: one orchestrator, one no-op activity."""

import azure.durable_functions as df

app = df.DFApp()


@app.orchestration_trigger(context_name="context")
def fan_out(context: df.DurableOrchestrationContext):
    """Run `n` no-op activities in batches of `batch`; return how many ran."""
    spec = context.get_input()
    total = 0
    for start in range(0, spec["n"], spec["batch"]):
        size = min(spec["batch"], spec["n"] - start)
        results = yield context.task_all([context.call_activity("noop", i) for i in range(size)])
        total += sum(results)
    return total


@app.activity_trigger(input_name="item")
def noop(item: int) -> int:
    return 1
