"""The arcwave function app: builds the DFApp and registers each blueprint. Nothing else."""

import azure.durable_functions as df
import azure.functions as func

from activities import advance, observe, plan, publish, record, recovery, restore
from orchestrators import rollout, track, wave
from triggers import api, events, flux, git, health, openapi, reconcile, sweep, watch

app = df.DFApp(http_auth_level=func.AuthLevel.FUNCTION)

app.register_functions(health.bp)
app.register_functions(api.bp)
app.register_functions(git.bp)
app.register_functions(flux.bp)
app.register_functions(events.bp)
app.register_functions(sweep.bp)
app.register_functions(reconcile.bp)
app.register_functions(watch.bp)
app.register_functions(openapi.bp)
app.register_functions(track.bp)
app.register_functions(rollout.bp)
app.register_functions(wave.bp)
app.register_functions(plan.bp)
app.register_functions(advance.bp)
app.register_functions(observe.bp)
app.register_functions(restore.bp)
app.register_functions(record.bp)
app.register_functions(recovery.bp)
app.register_functions(publish.bp)
