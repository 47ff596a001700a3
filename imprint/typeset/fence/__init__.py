"""typeset/fence"""
