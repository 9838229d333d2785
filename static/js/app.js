// Small behaviours shared by every page. Pages work without it; it only adds comfort.
