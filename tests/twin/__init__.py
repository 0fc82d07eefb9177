"""An independent twin of three Edge Impulse classify endpoints, built from public documents."""
