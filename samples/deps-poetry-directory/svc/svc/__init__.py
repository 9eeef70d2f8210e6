def main():
    print("svc")
