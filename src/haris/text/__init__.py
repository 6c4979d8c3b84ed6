"""haris.text"""
