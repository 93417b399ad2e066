"""The recording store (no Ray): every camera records continuously into indexed segments;
events, manual recordings and exports are time ranges over it.

- `segment`, `writer`, `audio`: packets remuxed into MP4 segments (G.711 → AAC).
- `camera`: one camera's writer, index thread, gaps and coverage waits.
- `index`, `reconcile`: the DB rows of segments and gaps; start-up repair after a crash.
- `clip`, `cache`, `playlist`, `thumbnails`: clips cut by time range (cached), HLS VOD, thumbnails.
- `queries`: coverage, day summaries, storage and coverage per camera.
- `retention`, `storage`, `runner`: what is kept, how much room it takes, the loop that applies it.
"""

from iris.recording.clip import ClipUnavailable, assemble_clip
from iris.recording.segment import Segment

__all__ = ["ClipUnavailable", "Segment", "assemble_clip"]
