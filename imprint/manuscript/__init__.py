"""manuscript"""
