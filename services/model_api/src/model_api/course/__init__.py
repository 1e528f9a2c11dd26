"""The course's /iris/* API, byte for byte, as a thin layer over the services."""
