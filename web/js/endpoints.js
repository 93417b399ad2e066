// Every route of the REST contract (shared/spec/api-reference.md; iris/serve/routes/*.py), one
// function each, grouped by resource as the server's routers are. JSON routes return the call
// (a promise of the answer, see api.js); media routes (clips, thumbnails, MJPEG, HLS) return the
// URL for an <img>/<video>. The only module that spells an API path: a new route gets its
// function here (tests/unit/test_web_endpoints.py checks the two lists match).
//
// Views use the one export `api`: `api.events.list(query, { signal })`, `api.live.streamUrl(id)`.
// `opts` is api.js's request options (signal, key); `query` objects skip empty values.

import { apiUrl, request, sendAndForget } from "./api.js";

const get = (path, opts) => request(path, opts);
const post = (path, json, opts) => request(path, { ...opts, method: "POST", json });
const put = (path, json, opts) => request(path, { ...opts, method: "PUT", json });
const del = (path, opts) => request(path, { ...opts, method: "DELETE" });
const upload = (path, form, opts) => request(path, { ...opts, method: "POST", form });
const media = (path, query) => apiUrl(path, query);
const id = (value) => encodeURIComponent(String(value));

/** True when `url` is one of the API's, for an app served at `appBase` (any path prefix). */
export function isApiUrl(url, appBase) {
  return new URL(url).pathname.startsWith(new URL(apiUrl("/api/", null, appBase)).pathname);
}

/** /api/cameras: CRUD over cameras; mutations start, stop or restart their workers. */
const cameras = {
  list: (opts) => get("/api/cameras", opts),
  create: (body) => post("/api/cameras", body),
  get: (cameraId, opts) => get(`/api/cameras/${id(cameraId)}`, opts),
  update: (cameraId, body) => put(`/api/cameras/${id(cameraId)}`, body),
  remove: (cameraId) => del(`/api/cameras/${id(cameraId)}`),
  status: (cameraId, opts) => get(`/api/cameras/${id(cameraId)}/status`, opts),
  /** The detector's classes and the default trigger set (the camera form). */
  detectClasses: (opts) => get("/api/cameras/detect/classes", opts),
};

/** /api/events: recordings, newest first; their clips (Range) and thumbnails; their review. */
const events = {
  /** `query`: camera_id, person_id, label, zone, severity (alert|detection), reviewed (true|false), from, to, limit, offset. */
  list: (query, opts) => get("/api/events", { ...opts, query }),
  /** Mark events reviewed (`reviewed` true) or not: at most 1000 ids; answers {updated}. */
  review: (ids, reviewed) => post("/api/events/review", { ids, reviewed }),
  /** {total, by_camera: {"<camera id>": n}}: what is left to review. */
  unreviewed: (opts) => get("/api/events/unreviewed", opts),
  get: (eventId, opts) => get(`/api/events/${id(eventId)}`, opts),
  remove: (eventId) => del(`/api/events/${id(eventId)}`),
  bulkDelete: (ids) => post("/api/events/bulk-delete", { ids }),
  /** `scope`: camera_id?, label?; the server insists on `confirm`. */
  clearAll: (scope = {}) => post("/api/events/clear-all", { confirm: true, ...scope }),
  clipUrl: (eventId) => media(`/api/events/${id(eventId)}/clip`),
  thumbnailUrl: (eventId) => media(`/api/events/${id(eventId)}/thumbnail`),
};

/** /api/recordings: the recording store by time (coverage, day summaries, export, HLS VOD). */
const recordings = {
  /** `query`: camera_id, from, to (at most 7 days): recorded spans, gaps, seconds. */
  coverage: (query, opts) => get("/api/recordings", { ...opts, query }),
  /** `query`: camera_id, day (YYYY-MM-DD), tz (IANA): per-hour seconds, gaps and events. */
  summary: (query, opts) => get("/api/recordings/summary", { ...opts, query }),
  /** An mp4 of `range` {from, to}, for export and download (Range supported). */
  clipUrl: (cameraId, range) => media(`/api/recordings/${id(cameraId)}/clip`, range),
  /** An HLS VOD playlist over the stored segments of `range` {from, to}, for scrubbing. */
  playlistUrl: (cameraId, range) => media(`/api/recordings/${id(cameraId)}/playlist.m3u8`, range),
  /** One stored segment as MPEG-TS (`query`: at, its playlist position in ms). */
  segmentUrl: (cameraId, segmentId, query = null) => media(`/api/recordings/${id(cameraId)}/segments/${id(segmentId)}.ts`, query),
};

/** /api/identities: the cross-camera layer, corrected by hand (rename, merge, split). */
const identities = {
  /** `query`: named_only, min_sightings, object_class, limit, offset. */
  list: (query, opts) => get("/api/identities", { ...opts, query }),
  analytics: (query, opts) => get("/api/identities/analytics", { ...opts, query }),
  /** `query`: recent (sightings inlined). */
  get: (identityId, query, opts) => get(`/api/identities/${id(identityId)}`, { ...opts, query }),
  sightings: (identityId, query, opts) => get(`/api/identities/${id(identityId)}/sightings`, { ...opts, query }),
  events: (identityId, opts) => get(`/api/identities/${id(identityId)}/events`, opts),
  faces: (identityId, opts) => get(`/api/identities/${id(identityId)}/faces`, opts),
  /** `body`: name?, notes?, is_named?. */
  update: (identityId, body) => put(`/api/identities/${id(identityId)}`, body),
  merge: (targetId, sourceIds) => post("/api/identities/merge", { target_id: targetId, source_ids: sourceIds }),
  /** `body`: sighting_ids + new_name?, or auto: true. */
  split: (identityId, body) => post(`/api/identities/${id(identityId)}/split`, body),
  remove: (identityId) => del(`/api/identities/${id(identityId)}`),
  bulkDelete: (ids) => post("/api/identities/bulk-delete", { ids }),
  /** `scope`: object_class?. */
  clearAll: (scope = {}) => post("/api/identities/clear-all", { confirm: true, ...scope }),
  thumbnailUrl: (identityId) => media(`/api/identities/${id(identityId)}/thumbnail`),
  sightingThumbnailUrl: (sightingId) => media(`/api/identities/sightings/${id(sightingId)}/thumbnail`),
};

/** /api/people: the enrolled-faces database (enrollment answers 503 without face models). */
const people = {
  list: (opts) => get("/api/people", opts),
  create: (body) => post("/api/people", body),
  get: (personId, opts) => get(`/api/people/${id(personId)}`, opts),
  update: (personId, body) => put(`/api/people/${id(personId)}`, body),
  remove: (personId) => del(`/api/people/${id(personId)}`),
  bulkDelete: (ids) => post("/api/people/bulk-delete", { ids }),
  clearAll: () => post("/api/people/clear-all", { confirm: true }),
  /** `form`: FormData with `file`, one clear face. */
  enroll: (personId, form) => upload(`/api/people/${id(personId)}/faces`, form),
  faces: (personId, opts) => get(`/api/people/${id(personId)}/faces`, opts),
  removeFace: (personId, faceId) => del(`/api/people/${id(personId)}/faces/${id(faceId)}`),
  faceImageUrl: (personId, faceId) => media(`/api/people/${id(personId)}/faces/${id(faceId)}/image`),
};

/** /api/face-groups: captured faces clustered on demand (settings are query parameters). */
const faceGroups = {
  /** `query`: face_threshold, clothing_weight, min_size, max_members, max_samples. */
  list: (query, opts) => get("/api/face-groups", { ...opts, query }),
  enroll: (sampleIds, name) => post("/api/face-groups/enroll", { sample_ids: sampleIds, name }),
  label: (sampleIds, label) => post("/api/face-groups/label", { sample_ids: sampleIds, label }),
  clips: (sampleIds, opts) => post("/api/face-groups/clips", { sample_ids: sampleIds }, opts),
  removeSample: (sampleId) => del(`/api/face-groups/samples/${id(sampleId)}`),
  bulkDeleteSamples: (ids) => post("/api/face-groups/samples/bulk-delete", { ids }),
  /** `scope`: label?. */
  clearAllSamples: (scope = {}) => post("/api/face-groups/samples/clear-all", { confirm: true, ...scope }),
  sampleThumbnailUrl: (sampleId) => media(`/api/face-groups/samples/${id(sampleId)}/thumbnail`),
};

/** /api/live: annotated frames (snapshot, MJPEG), manual recording, HLS with sound. */
const live = {
  /** `query`: t (a cache-buster per poll). */
  snapshotUrl: (cameraId, query = null) => media(`/api/live/${id(cameraId)}/snapshot`, query),
  /** `fps` null: the server's full rate. */
  streamUrl: (cameraId, fps = null) => media(`/api/live/${id(cameraId)}/stream`, { fps }),
  recordStart: (cameraId) => post(`/api/live/${id(cameraId)}/record/start`),
  /** `startedAt`: what recordStart answered (the server keeps no state). */
  recordStop: (cameraId, startedAt) => post(`/api/live/${id(cameraId)}/record/stop`, { started_at: startedAt }),
  /** Start the session (idempotent) and wait for its first playlist: errors read as the server's. */
  hlsStart: (cameraId, opts) => get(`/api/live/${id(cameraId)}/hls/index.m3u8`, opts),
  hlsPlaylistUrl: (cameraId) => media(`/api/live/${id(cameraId)}/hls/index.m3u8`),
  hlsSegmentUrl: (cameraId, segment) => media(`/api/live/${id(cameraId)}/hls/${id(segment)}`),
  /** Stop the session, even as the page goes away (a beacon or a keepalive fetch). */
  hlsClose: (cameraId) => sendAndForget(`/api/live/${id(cameraId)}/hls/close`),
  /** The same as a link (GET), for a player outside this app. */
  hlsCloseUrl: (cameraId) => media(`/api/live/${id(cameraId)}/hls/close`),
  /** The live MP4 stream's codecs (for MediaSource.isTypeSupported), size and sound. */
  mseInfo: (cameraId, opts) => get(`/api/live/${id(cameraId)}/mse/info`, opts),
  /** Fragmented MP4 (fetch it and append to a SourceBuffer): init segment, then fragments. */
  mseUrl: (cameraId) => media(`/api/live/${id(cameraId)}/mse`),
  /** Server-sent events of tracked boxes (labels, track ids, scores, 0–1 boxes). */
  detectionsUrl: (cameraId) => media(`/api/live/${id(cameraId)}/detections`),
};

/** /api/system: the running instance (versions, backend, models, GPU, workers). */
const system = {
  info: (opts) => get("/api/system", opts),
  /** Prometheus text. */
  metrics: (opts) => get("/api/system/metrics", opts),
  /** The OpenAPI UI: a page to open (behind the same credentials). */
  docsUrl: () => media("/api/docs"),
  /** API keys besides the configured one (admin only); a new key's token is in its answer. */
  keys: (opts) => get("/api/system/keys", opts),
  /** `body`: name, role (viewer|admin), cameras? (ids; viewers only). */
  createKey: (body) => post("/api/system/keys", body),
  /** Revoke a key by its id or name. */
  revokeKey: (ref) => del(`/api/system/keys/${id(ref)}`),
};

/** /health: up or down, the only route without credentials. */
const health = {
  get: (opts) => get("/health", opts),
};

/** The whole contract, by resource. */
export const api = { cameras, events, recordings, identities, people, faceGroups, live, system, health };
