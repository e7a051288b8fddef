from supervision.remote_sensing.services.layers import layers_requeue

from ._requeue import RequeueCommand


class Command(RequeueCommand):
    help = (
        "Send the scan task again for change layers still queued with no send attempt for N minutes "
        "(the broker was down when they were queued). Safe to run twice; beat runs it too."
    )
    default_setting = "TASKS_REQUEUE_AFTER_MINUTES"
    what = "minutes since the last send attempt"
    line = "{n} change layers sent again"

    def sweep(self, older_than):
        return layers_requeue(older_than=older_than)
