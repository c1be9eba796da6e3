"""Matching: spatial index of doctors, ranking, capacitated batch assignment and k-means service
regions. The algorithm modules (`geo`, `doctor_index`, `ranking`, `assignment`, `regions`,
`synthetic`, `errors`) are plain Python with no Django import, so they are tested and benchmarked
alone; the Django layer (settings, models, API) wraps them."""
