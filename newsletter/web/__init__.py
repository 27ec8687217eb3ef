"""The HTTP faces: public pages and forms, feeds, the push API, the admin; routes stay thin.

app.py assembles them; the work is done by pipeline/ joins and the stages they call.
"""
