"""haris.policy"""
