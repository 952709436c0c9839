"""The ``metaflow`` compatibility package: which headwater object answers each Metaflow name
(:mod:`.names`) and writing the package's stub files into a directory (:mod:`.writer`)."""
