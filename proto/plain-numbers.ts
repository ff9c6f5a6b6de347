// Imported before the generated code: 64-bit fields then decode to plain numbers (the schema keeps µs
// timestamps and counters below 2^53), defaults included. Without it protobufjs hands out a Long
// object per field — an allocation per flow we do not want, and a type every reader must handle.
import * as protobuf from 'protobufjs/minimal';

protobuf.util.Long = undefined as unknown as typeof protobuf.util.Long;
protobuf.configure();
