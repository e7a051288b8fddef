from supervision.commands import ServiceCommand
from supervision.remote_sensing.services.layers import layers_sweep


class Command(ServiceCommand):
    help = (
        "Requeue (or, after SCAN_MAX_REQUEUES, fail) running change layers with no progress for "
        "SCAN_STALL_SECONDS. The beat runs the same sweep every SCAN_SWEEP_SECONDS; safe to run twice."
    )

    def add_arguments(self, parser):
        parser.add_argument("--stall-seconds", type=float, help="override SCAN_STALL_SECONDS for this sweep")
        parser.add_argument("--max-requeues", type=int, help="override SCAN_MAX_REQUEUES for this sweep")

    def handle(self, *args, **opts):
        acted = layers_sweep(stall_seconds=opts["stall_seconds"], max_requeues=opts["max_requeues"])
        for layer_id, what in acted:
            self.stdout.write(f"change layer #{layer_id}: {what}")
        self.stdout.write(f"{len(acted)} stalled layer(s) handled")
