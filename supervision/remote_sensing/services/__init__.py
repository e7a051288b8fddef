"""Services of the remote_sensing app, one module per subject; import from the module itself.

`layers`: register change layers and run their scans (the Celery tasks call these).
`inbox`: pick up GeoTIFFs dropped into the inbox folder.
`monitoring`: stations, readings, gridded layers and the exceedance/decline rules.
`exports`: leads of a plan as GeoJSON or CSV.
"""
