APP = "svc"
