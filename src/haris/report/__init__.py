"""haris.report"""
