"""Private helpers of the chown-layer transform: the facts its fixes rest on, each with where it comes from."""
