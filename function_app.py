"""The arcwave function app: checks settings, builds the DFApp, registers blueprints."""

import azure.durable_functions as df
import azure.functions as func

from activities import advance, gates, observe, plan, record, recovery, restore
from orchestrators import rollout, track, wave
from shared.runtime import check_settings_at_start
from triggers import (
    alerts,
    browser,
    dashboard,
    events,
    flux,
    git,
    health,
    openapi,
    override,
    reconcile,
    rollouts,
    sweep,
    tracks,
    watch,
)

check_settings_at_start()  # a bad setting stops the app here, naming the setting

app = df.DFApp(http_auth_level=func.AuthLevel.FUNCTION)

app.register_functions(health.bp)
app.register_functions(tracks.bp)
app.register_functions(rollouts.bp)
app.register_functions(override.bp)
app.register_functions(git.bp)
app.register_functions(flux.bp)
app.register_functions(alerts.bp)
app.register_functions(events.bp)
app.register_functions(sweep.bp)
app.register_functions(reconcile.bp)
app.register_functions(watch.bp)
app.register_functions(openapi.bp)
app.register_functions(dashboard.bp)
app.register_functions(browser.bp)
app.register_functions(track.bp)
app.register_functions(rollout.bp)
app.register_functions(wave.bp)
app.register_functions(plan.bp)
app.register_functions(advance.bp)
app.register_functions(observe.bp)
app.register_functions(gates.bp)
app.register_functions(restore.bp)
app.register_functions(record.bp)
app.register_functions(recovery.bp)
