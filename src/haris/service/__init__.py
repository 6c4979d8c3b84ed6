"""haris.service"""
