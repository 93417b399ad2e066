"""FAISS galleries: inner-product search over L2-normalised vectors, keyed by database ids.

A `Gallery` is a derived index: the database holds the vectors, the gallery answers "which
stored vectors are most like this one" and is rebuilt from the database at start-up. Kinds:

* ``flat`` exact search (``IndexIDMap2(IndexFlatIP)``); the right choice below ~100k vectors.
* ``ivf`` inverted lists (``IndexIVFFlat``, ``nprobe`` lists searched). It needs training, so
  the gallery stays flat until it holds ``ivf_min_vectors`` and trains then (and on
  `rebuild`). Approximate: recall@1 ~0.98 at nprobe 8 for near-duplicate queries.
* ``hnsw`` graph search (``IndexHNSWFlat``). HNSW cannot delete, so removals are tombstoned,
  filtered from results and compacted away once they exceed a quarter of the index.

On 2 shared cores FAISS runs one OpenMP thread and uses its SIMD scan rather than BLAS for
batches below ``blas_threshold`` queries (DESIGN field notes). A GPU copy of flat/IVF indexes is
used when FAISS sees a GPU (faiss-gpu builds only) and the gallery is large enough to gain.
"""

from __future__ import annotations

import logging
from typing import Any, Literal

import numpy as np

log = logging.getLogger(__name__)

GalleryKind = Literal["flat", "ivf", "hnsw"]
KINDS: tuple[str, ...] = ("flat", "ivf", "hnsw")
_configured: tuple[int, int] | None = None


def configure_faiss(threads: int = 1, blas_threshold: int = 256) -> None:
    """Set FAISS's process-wide OpenMP threads and BLAS batch threshold (idempotent)."""
    global _configured
    if _configured == (threads, blas_threshold):
        return
    import faiss

    faiss.omp_set_num_threads(threads)
    faiss.cvar.distance_compute_blas_threshold = blas_threshold
    _configured = (threads, blas_threshold)


def normalise(vectors: np.ndarray, dim: int) -> np.ndarray:
    """``(N, dim)`` C-contiguous float32 rows of unit length (zero rows stay zero).

    Raises:
        ValueError: the vectors do not have ``dim`` columns.
    """
    arr = np.ascontiguousarray(vectors, dtype=np.float32)
    if arr.ndim == 1:
        arr = arr.reshape(1, -1)
    if arr.ndim != 2 or arr.shape[1] != dim:
        raise ValueError(f"expected vectors of dimension {dim}, got shape {arr.shape}")
    norms = np.linalg.norm(arr, axis=1, keepdims=True)
    return np.ascontiguousarray(arr / np.maximum(norms, 1e-12), dtype=np.float32)


def _as_ids(ids: Any) -> np.ndarray:
    return np.ascontiguousarray(np.asarray(ids, dtype=np.int64).reshape(-1))


class Gallery:
    """A searchable set of ``(id, vector)`` pairs; ids are int64 database ids, unique.

    Attributes:
        dim: vector length.
        kind: the requested kind; `active_kind` says what currently serves searches.
    """

    def __init__(
        self,
        dim: int,
        kind: GalleryKind = "flat",
        *,
        nprobe: int = 8,
        nlist: int | None = None,
        ivf_min_vectors: int = 20_000,
        hnsw_m: int = 32,
        ef_search: int = 64,
        ef_construction: int = 80,
        threads: int = 1,
        blas_threshold: int = 256,
        use_gpu: bool | None = None,
        gpu_min_vectors: int = 50_000,
    ) -> None:
        """Create an empty gallery.

        Args:
            dim: vector length (512 for ArcFace).
            kind: ``flat``, ``ivf`` or ``hnsw``.
            nprobe: IVF lists searched per query.
            nlist: IVF list count; default ``sqrt(n)`` at training time (at most ``n / 39``).
            ivf_min_vectors: an ``ivf`` gallery stays exact below this many vectors.
            hnsw_m: HNSW graph degree.
            ef_search: HNSW search breadth (recall vs speed).
            ef_construction: HNSW build breadth.
            threads: FAISS OpenMP threads (process-wide).
            blas_threshold: batches of at least this many queries use BLAS (process-wide).
            use_gpu: mirror flat/IVF indexes on GPU 0; ``None`` means when FAISS sees a GPU.
            gpu_min_vectors: below this size searches stay on the CPU copy.

        Raises:
            ValueError: an unknown kind or a non-positive dimension.
        """
        if kind not in KINDS:
            raise ValueError(f"gallery kind must be one of {KINDS}, got {kind!r}")
        if dim <= 0:
            raise ValueError(f"gallery dimension must be positive, got {dim}")
        configure_faiss(threads, blas_threshold)
        self.dim, self.kind = dim, kind
        self.nprobe, self.nlist, self.ivf_min_vectors = nprobe, nlist, ivf_min_vectors
        self.hnsw_m, self.ef_search, self.ef_construction = hnsw_m, ef_search, ef_construction
        self.gpu_min_vectors = gpu_min_vectors
        self._use_gpu = _gpu_count() > 0 if use_gpu is None else use_gpu
        self._gpu: Any = None
        self._gpu_stale = True
        self._reset()

    # ------------------------------------------------------------------------- state
    def _reset(self) -> None:
        import faiss

        self._index: Any
        if self.kind == "hnsw":
            self._index = faiss.IndexHNSWFlat(self.dim, self.hnsw_m, faiss.METRIC_INNER_PRODUCT)
            self._index.hnsw.efConstruction = self.ef_construction
            self._index.hnsw.efSearch = self.ef_search
            self._labels = np.empty(0, np.int64)  # HNSW offset -> id (-1: tombstone)
            self._offset: dict[int, int] = {}
            self._dead = 0
            self._selector_for: int | None = None
        else:
            self._index = faiss.IndexIDMap2(faiss.IndexFlatIP(self.dim))
            self._held: set[int] = set()
        self.active_kind: str = "hnsw" if self.kind == "hnsw" else "flat"
        self._gpu, self._gpu_stale = None, True

    def __len__(self) -> int:
        return len(self._offset) if self.kind == "hnsw" else len(self._held)

    def __contains__(self, item: object) -> bool:
        if not isinstance(item, int | np.integer):
            return False
        return int(item) in (self._offset if self.kind == "hnsw" else self._held)

    def ids(self) -> np.ndarray:
        """Every id held, int64, in no particular order."""
        held = self._offset.keys() if self.kind == "hnsw" else self._held
        return np.fromiter(held, np.int64, len(held))

    # ------------------------------------------------------------------------- mutation
    def add(self, ids: np.ndarray | list[int], vectors: np.ndarray) -> None:
        """Add vectors under ids; an id already present is replaced (upsert).

        Raises:
            ValueError: lengths differ, ids repeat within the call, or the dimension is wrong.
        """
        id_arr = _as_ids(ids)
        vecs = normalise(vectors, self.dim) if len(id_arr) else np.empty((0, self.dim), "f4")
        if len(id_arr) != len(vecs):
            raise ValueError(f"{len(id_arr)} ids for {len(vecs)} vectors")
        if len(np.unique(id_arr)) != len(id_arr):
            raise ValueError("ids repeat within one add")
        if not len(id_arr):
            return
        present = [i for i in id_arr.tolist() if i in self]
        if present:
            self.remove(present)
        if self.kind == "hnsw":
            start = int(self._index.ntotal)
            self._index.add(vecs)
            self._labels = np.concatenate([self._labels, id_arr])
            self._offset.update({int(i): start + k for k, i in enumerate(id_arr.tolist())})
        else:
            self._index.add_with_ids(vecs, id_arr)
            self._held.update(id_arr.tolist())
            if self.kind == "ivf" and self.active_kind == "flat":
                if len(self) >= self.ivf_min_vectors:
                    self._train_ivf()
        self._gpu_stale = True

    def remove(self, ids: np.ndarray | list[int]) -> int:
        """Remove ids (absent ones are ignored); returns how many were removed."""
        id_arr = _as_ids(ids)
        if not len(id_arr) or not len(self):
            return 0
        if self.kind == "hnsw":
            gone = 0
            for i in id_arr.tolist():
                offset = self._offset.pop(int(i), None)
                if offset is not None:
                    self._labels[offset] = -1
                    gone += 1
            self._dead += gone
            if self._dead > max(64, len(self._labels) // 4):
                self._compact()
            return gone
        import faiss

        present = np.array([i for i in id_arr.tolist() if i in self._held], np.int64)
        if not len(present):
            return 0
        selector: Any
        if self.active_kind == "ivf":  # the hash direct map accepts only an id array
            selector = faiss.IDSelectorArray(len(present), faiss.swig_ptr(present))
        else:
            selector = faiss.IDSelectorBatch(present)
        removed = int(self._index.remove_ids(selector))
        self._held.difference_update(present.tolist())
        self._gpu_stale = True
        return removed

    def rebuild(self, ids: np.ndarray | list[int], vectors: np.ndarray) -> None:
        """Replace the whole content (IVF trains afresh when large enough)."""
        id_arr = _as_ids(ids)
        self._reset()
        if not len(id_arr):
            return
        vecs = normalise(vectors, self.dim)
        if self.kind == "ivf" and len(id_arr) >= self.ivf_min_vectors:
            self._train_ivf(id_arr, vecs)
            return
        self.add(id_arr, vecs)

    def vectors(self) -> tuple[np.ndarray, np.ndarray]:
        """``(ids, vectors)`` of everything held (for retraining and maintenance)."""
        if self.kind == "hnsw":
            live = np.flatnonzero(self._labels >= 0)
            vecs = self._index.reconstruct_n(0, int(self._index.ntotal))
            return self._labels[live].copy(), np.ascontiguousarray(vecs[live])
        import faiss

        if not len(self):
            return np.empty(0, np.int64), np.empty((0, self.dim), np.float32)
        if self.active_kind == "ivf":
            lists = self._index.invlists
            id_parts, vec_parts = [], []
            for i in range(self._index.nlist):
                size = lists.list_size(i)
                if size:
                    id_parts.append(faiss.rev_swig_ptr(lists.get_ids(i), size).copy())
                    codes = faiss.rev_swig_ptr(lists.get_codes(i), size * self.dim * 4)
                    vec_parts.append(codes.view(np.float32).reshape(size, self.dim).copy())
            return np.concatenate(id_parts), np.concatenate(vec_parts)
        ids = faiss.vector_to_array(self._index.id_map).astype(np.int64)
        return ids, self._index.index.reconstruct_n(0, int(self._index.ntotal))

    def _train_ivf(self, ids: np.ndarray | None = None, vecs: np.ndarray | None = None) -> None:
        import faiss

        if ids is None or vecs is None:
            ids, vecs = self.vectors()
        # k-means wants >= 39 points per list; sqrt(n) lists balances scan and probe cost.
        nlist = self.nlist or max(1, min(int(np.sqrt(len(ids))), len(ids) // 39))
        quantizer = faiss.IndexFlatIP(self.dim)
        ivf = faiss.IndexIVFFlat(quantizer, self.dim, nlist, faiss.METRIC_INNER_PRODUCT)
        ivf.cp.max_points_per_centroid = 64  # a sample trains well enough, and in seconds
        ivf.train(vecs)
        ivf.add_with_ids(vecs, ids)
        self._held = set(ids.tolist())
        ivf.nprobe = self.nprobe
        # IDs are reconstructable by id through a hash direct map (merges, maintenance).
        ivf.set_direct_map_type(faiss.DirectMap.Hashtable)  # type: ignore[attr-defined]
        self._quantizer = quantizer  # keep the SWIG owner alive beside the index
        self._index = ivf
        self.active_kind = "ivf"
        self._gpu_stale = True
        log.info("gallery: trained IVF with %d lists on %d vectors", nlist, len(ids))

    def _hnsw_params(self) -> Any:
        import faiss

        params = faiss.SearchParametersHNSW()  # type: ignore[attr-defined]
        params.efSearch = self.ef_search
        if self._dead:
            if getattr(self, "_selector_for", None) != self._dead:
                # Tombstoned offsets are skipped inside the graph walk, so k stays exact.
                dead = np.flatnonzero(self._labels < 0).astype(np.int64)
                self._batch = faiss.IDSelectorBatch(dead)
                self._selector = faiss.IDSelectorNot(self._batch)  # holds a pointer: keep both
                self._selector_for = self._dead
            params.sel = self._selector
        return params

    def _compact(self) -> None:
        ids, vecs = self.vectors()
        self._reset()
        if len(ids):
            self.add(ids, vecs)

    # ------------------------------------------------------------------------- search
    def set_search(self, nprobe: int | None = None, ef_search: int | None = None) -> None:
        """Trade recall for speed at search time: IVF lists probed, HNSW search breadth."""
        if nprobe is not None:
            self.nprobe = nprobe
            if self.active_kind == "ivf":
                self._index.nprobe = nprobe
                self._gpu_stale = True
        if ef_search is not None:
            self.ef_search = ef_search
            if self.kind == "hnsw":
                self._index.hnsw.efSearch = ef_search

    def search(self, vectors: np.ndarray, k: int = 1) -> tuple[np.ndarray, np.ndarray]:
        """The ``k`` most similar stored vectors for each query.

        Returns:
            ``(scores, ids)``, both ``(N, k)``: inner products (cosine) best first, as float32,
            and int64 ids; slots beyond what the gallery holds read ``-inf`` and ``-1``.
        """
        queries = normalise(vectors, self.dim)
        n = len(queries)
        scores = np.full((n, k), -np.inf, np.float32)
        found = np.full((n, k), -1, np.int64)
        if k <= 0 or not len(self) or not n:
            return scores[:, : max(k, 0)], found[:, : max(k, 0)]
        if self.kind == "hnsw":
            got = min(k, len(self))
            raw_s, raw_i = self._index.search(queries, got, params=self._hnsw_params())
            labels = np.where(raw_i >= 0, self._labels[np.maximum(raw_i, 0)], -1)
            scores[:, :got] = np.where(labels >= 0, raw_s, -np.inf)
            found[:, :got] = labels
            return scores, found
        index = self._search_index()
        got = min(k, len(self))
        raw_s, raw_i = index.search(queries, got)
        valid = raw_i >= 0
        scores[:, :got] = np.where(valid, raw_s, -np.inf)
        found[:, :got] = raw_i
        return scores, found

    def _search_index(self) -> Any:
        if not self._use_gpu or len(self) < self.gpu_min_vectors:
            return self._index
        if self._gpu is None or self._gpu_stale:
            try:
                import faiss

                res = getattr(self, "_gpu_res", None) or faiss.StandardGpuResources()
                self._gpu_res = res
                self._gpu = faiss.index_cpu_to_gpu(res, 0, self._index)
                if self.active_kind == "ivf":
                    self._gpu.nprobe = self.nprobe
                self._gpu_stale = False
            except Exception as exc:  # noqa: BLE001 - GPU is an accelerator, never a must
                log.warning("gallery: GPU copy failed (%s); searching on the CPU", exc)
                self._use_gpu = False
                return self._index
        return self._gpu


def _gpu_count() -> int:
    try:
        import faiss

        get = getattr(faiss, "get_num_gpus", None)
        return int(get()) if get is not None else 0
    except Exception:  # noqa: BLE001 - a CPU-only build or no driver
        return 0
