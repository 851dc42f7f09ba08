# Minimal type stubs for the parts of django-mptt that Fenxiao uses (the package ships none).
