"""Models: training (the network, the pure fit, the training worker), versions with lineage,
scoring, fair comparison of two versions, and the persisted job queue that trains new versions."""
