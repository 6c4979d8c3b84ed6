"""haris.review"""
