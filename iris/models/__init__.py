"""ML wrappers behind small interfaces: detector backends, faces, appearance, FAISS galleries,
letterboxing, stand-in models. Nothing here touches the database (`iris.identity` does).
"""
