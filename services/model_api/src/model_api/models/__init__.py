"""Model versions: each training result kept with its lineage, one promoted per model; fair
comparison of two versions; the persisted job queue that trains new versions."""
