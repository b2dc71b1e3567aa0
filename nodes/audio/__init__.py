"""Sound: load a sound file (or a video's sound), trim it, save it as FLAC, MP3 or Opus."""
