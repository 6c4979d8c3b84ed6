"""haris.store"""
