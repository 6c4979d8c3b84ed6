"""haris.ingest"""
