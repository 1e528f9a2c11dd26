"""model_api: the Iris model service (FastAPI + TensorFlow). Start it with ``model-api``."""
