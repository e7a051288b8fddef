from supervision.remote_sensing.services.layers import layers_chips_requeue

from ._requeue import RequeueCommand


class Command(RequeueCommand):
    help = (
        "Send the chip tasks again for done change layers whose leads still wait for their evidence "
        "chips N minutes after they were sent (the broker was down). Safe to run twice; beat runs it too."
    )
    default_setting = "SCAN_CHIPS_REQUEUE_MINUTES"
    what = "minutes since the chips were sent"
    line = "chips of {n} change layers sent again"

    def sweep(self, older_than):
        return layers_chips_requeue(older_than=older_than)
