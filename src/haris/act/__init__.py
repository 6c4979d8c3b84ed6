"""haris.act"""
