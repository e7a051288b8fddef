"""Services of the cases app, one module per subject; import from the module itself.

`supervision.cases.services.leads.lead_raise` is the one door other apps (the scans)
use to raise leads.
"""
