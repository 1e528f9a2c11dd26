"""Data sets: uploaded CSVs stored as numbered folders, their rows, histograms and columns."""
