#include <catch2/catch.hpp>

// End-to-end tests of the trim tool (being written).
