// The footprint app without netstack: measure.sh compares the two builds' preloaded images.
trace("footprint done\n");
