// The MPI layer (trim/dataset/mpi.hpp); filled in by the next commit.
