"""The file suffixes each writer takes: one table the dispatcher (``outputs``), the heatmap and the viewers read."""

#: Heatmap image formats by suffix (matplotlib's format names).
HEATMAP_SUFFIXES = {".png": "png", ".svg": "svg", ".pdf": "pdf"}
TABLE_SUFFIXES = (".csv", ".json")
