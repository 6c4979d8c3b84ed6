"""haris.network"""
