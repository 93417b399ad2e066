"""Live view without transcoding, camera side (no Ray): the camera's packets remuxed into
fragmented MP4 while anyone watches (`fmp4.LiveMp4`), with the MSE codecs string read from the
init segment (`codecs`, over `boxes`), and the tracked boxes for overlays the browser draws
(`overlay.OverlayFeed`). The ingress fans both out (`iris.serve.mse`, `iris.serve.overlays`).
"""
