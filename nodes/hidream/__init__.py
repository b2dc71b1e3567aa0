"""HiDream-I1 (Full, Dev, Fast): a sparse (mixture-of-experts) flow transformer read by four text encoders."""
