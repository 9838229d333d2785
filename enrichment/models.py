"""Enrichment keeps its images and album notes in the catalogue (collection.Image and
collection.AlbumMetadata), since the Discogs sync writes them too; its own tables come with it."""
