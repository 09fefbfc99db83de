"""Recordings as media files: finding ffmpeg, probing files and generating the demo clips.

Everything here runs ffmpeg (the binary bundled with imageio-ffmpeg) as a separate process;
OpenCV is only used to draw frames, never to read or write video (see
``shared/design/recordings-notes.md``: it cannot write H.264 or audio and gives black frames
for interlaced sources).
"""
