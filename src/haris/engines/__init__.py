"""haris.engines"""
